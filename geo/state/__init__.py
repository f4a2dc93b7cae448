"""What a view is made of outside the map: link tokens, stories and saved sessions."""
