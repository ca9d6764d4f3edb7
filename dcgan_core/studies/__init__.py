"""One module per chapter of the book, in the paper's order, all alike: `run(params) -> Study`,
`figures(study, params)`, `claims(study, params) -> list[Claim]`."""
