"""trialbridge: clinical-trial registry records to FHIR and CDISC SDTM, with provenance."""
