"""Analytics service: live city-wide counters kept in changelog-backed Faust tables."""
