"""The live map's component args (ui/atlas_map): the classes packed two areas to a byte."""

from __future__ import annotations

from ui.atlas_map import pack_classes


def test_classes_pack_two_areas_to_a_byte_no_data_as_zero():
    assert pack_classes("-0123456789") == bytes([0x01, 0x23, 0x45, 0x67, 0x89, 0xA0])
    assert len(pack_classes("3" * 32_844)) == 16_422


def test_a_class_of_15_or_more_is_not_packed():
    assert pack_classes("0" + chr(48 + 15)) is None
    assert pack_classes(">") == bytes([0xF0])  # class 14, the last that fits
