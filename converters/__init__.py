"""trialbridge: clinical-trial registry records to FHIR and CDISC SDTM, with provenance."""

__version__ = "0.1.0"
