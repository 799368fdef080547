"""The action server: thin rasa_sdk actions that read the tracker, call bot/, and render replies."""
