"""Accounts: operators who sign in, their roles, and the audit log of what they did.

Used when accounts are on (`Settings.accounts_on`: always with Tavus, by choice in sandbox
mode). The rules of who may do what are in `cvi_app.access.caller`.
"""
