"""theon.sandbox — Theano's ``theano.sandbox`` names that classic code imports.

Only ``theon.sandbox.rng_mrg.MRG_RandomStreams`` lives here.
"""
