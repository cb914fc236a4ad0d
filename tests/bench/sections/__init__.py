"""One module per section of the bench (BENCH_ONLY names them: me, refunds, simulation,
login, revocation, alerts), each with its targets, its measurement and its part of the
printed report."""
