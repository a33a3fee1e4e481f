"""Signing in and staying signed in safely: throttled sign-in, optional TOTP two-factor
sign-in (required per team by its owners), password change and reset, and the audit
events for all of it. docs/sign-in.md is the operator's guide."""
