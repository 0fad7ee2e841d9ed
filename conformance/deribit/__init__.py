"""The reference Deribit venue: ``deribit.ServerProtocol`` driven by the simulated market."""
