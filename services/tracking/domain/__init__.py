"""What tracking knows of a request, folded from its events: pure Python."""
