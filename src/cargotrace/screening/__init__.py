"""Screening: the vessels, owners, consignors and consignees of a case against sanctions
lists (OFAC SDN, UN consolidated list, FollowTheMoney / OpenSanctions, simple CSV), and
the spellings of one organisation in the records grouped into clusters.

lists (readers) -> catalog (entries, indexes) -> vessels / parties (screening) -> hits;
resolve (clusters); stage (analysis stages); findings (findings JSON, evidence chains).
Names: translit, legalforms, normalize; matching: index (blocked, vectorised).
"""
