"""intake: takes requests in from requesting authorities and, at the end, closes them."""
