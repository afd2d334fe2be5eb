"""Notifications: outgoing mail (outbox) now; subscriptions and the inbox later."""
