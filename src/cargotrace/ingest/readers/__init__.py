"""Readers of input files: CSV (sniffed encodings and layouts), Excel, GeoJSON; header matching."""
