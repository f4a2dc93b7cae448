"""The legend in words: one sentence per class, so a map can be read without telling colours apart.

With national deciles of LSOAs the sentences say what the deciles mean ("Most deprived 10% of
LSOAs nationally: 12 of Hartlepool's 58"); with any other classification they name each class's
range and how many of the areas shown fall in it. Plain text: callers escape it for their medium.
"""

from __future__ import annotations

from geo.present.classify import Classification


def possessive(place: str) -> str:
    """'Hartlepool' -> "Hartlepool's", 'Wexley Fold' -> "Wexley Fold's", 'england' -> "England's"; names ending
    in s take a bare apostrophe."""
    place = place.strip()
    place = place[:1].upper() + place[1:]  # a place name: "england" → "England's"
    if place.endswith(("'s", "’s")):
        return place  # "St. Aldhelm's" is already possessive in form; "St. Aldhelm's's" reads badly
    return place + ("'" if place.endswith("s") else "'s")


def _of_total(count: int, total: int, place: str | None, area_word: str) -> str:
    if place:
        return f"{count:,} of {possessive(place)} {total:,}"
    return f"{count:,} of the {total:,} {area_word} shown"


def sentence_legend(classification: Classification, *, area_word: str = "areas", place: str | None = None,
                    unit: str = "LSOAs") -> list[str]:
    """Sentences for the legend, the most deprived (darkest) class first, then areas without data.

    `area_word` names the areas ("LSOAs", "districts"); `place` names the whole shown (a district
    name) when there is one; `unit` is what national deciles are deciles of.
    """
    total = int(sum(classification.counts)) + int(classification.no_data_count)
    out: list[str] = []
    if classification.scheme == "national_deciles" and classification.k == 10:
        for cls in range(9, -1, -1):
            decile = 10 - cls
            if decile == 1:
                what = f"Most deprived 10% of {unit} nationally"
            elif decile == 10:
                what = f"Least deprived 10% of {unit} nationally"
            else:
                what = f"Decile {decile} ({(decile - 1) * 10}–{decile * 10}% most deprived nationally)"
            out.append(f"{what}: {_of_total(classification.counts[cls], total, place, area_word)}")
    elif classification.scheme in ("categories", "diverging"):
        # Categories (status, eligibility) and change classes are named by their labels, not by a position.
        for cls in range(classification.k - 1, -1, -1):
            label = str(classification.labels[cls])
            out.append(f"{label[:1].upper() + label[1:]}: "
                       f"{_of_total(classification.counts[cls], total, place, area_word)}")
    else:
        k = classification.k
        for cls in range(k - 1, -1, -1):
            if k == 1:
                position = "One class"
            elif cls == k - 1:
                position = "Darkest class"
            elif cls == 0:
                position = "Lightest class"
            else:
                position = f"Class {cls + 1} of {k}"
            out.append(f"{position}, {classification.labels[cls]}: "
                       f"{_of_total(classification.counts[cls], total, place, area_word)}")
    if classification.no_data_count:
        out.append(f"No data: {_of_total(classification.no_data_count, total, place, area_word)}")
    return out
