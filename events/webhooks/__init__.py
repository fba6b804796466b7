"""Outbound partner webhooks (Standard Webhooks): fan-out into deliveries, signing, sending, retrying."""
