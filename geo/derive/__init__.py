"""What the maps show, computed: district summaries, eligibility, progress, change, the NRF record."""
