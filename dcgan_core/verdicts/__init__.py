"""The rules that turn statistics into verdicts, the Claim model and the paper's numbers.

This layer imports nothing above the helpers: a rule cannot depend on the models it judges."""
