"""Webhook alerts: receivers from the environment, payload formats, signing and delivery."""
