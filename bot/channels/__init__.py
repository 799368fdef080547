"""Custom Rasa input channels: the website widget and the reception kiosk."""
