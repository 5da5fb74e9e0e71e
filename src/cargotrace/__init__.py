"""cargotrace: trace illicit cargo from leaked logistics records to vessel arrivals."""

__version__ = "0.1.0"
