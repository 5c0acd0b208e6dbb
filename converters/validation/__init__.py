"""Validators that sit beside each step: canonical study schema, FHIR, CDISC."""
