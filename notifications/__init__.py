"""Notifications: subscriptions, followed tenders, the inbox and the mails of domain events."""
