"""What notify decides, in pure Python: who wants an event, how a webhook is signed, when a
failed delivery is tried again, which targets are refused, and the words of an e-mail."""
