"""The volunteer library (志愿者库): the record model and selectors, the columnar view a Match
solves against, and the store port with its memory and Redis adapters."""
