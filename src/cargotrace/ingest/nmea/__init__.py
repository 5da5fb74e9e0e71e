"""NMEA 0183 AIS: finding sentences, reassembling fragments, decoding bit fields, loading positions."""
