"""The community work days' reference data: the articles' shape, and agreement with the
places of places.yaml."""

from __future__ import annotations

from minsheng.reference import communities, pairings, places


def test_667_units_are_paired_with_102_communities_each_unit_once() -> None:
    found = pairings()
    assert len(found) == 667
    assert len({p.unit for p in found.values()}) == 667
    assert len({p.community.name for p in found.values()}) == len(communities()) == 102


def test_every_community_lies_in_a_district_and_agrees_with_the_places() -> None:
    tree = places()
    for community in communities().values():
        assert community.district in tree.districts, community
        if community.street is not None:
            assert tree.knows(community.district, community.street, community.name), community
    named = {c for streets in tree.districts.values() for cs in streets.values() for c in cs}
    assert named <= set(communities()), "every community of places.yaml has its pairings"
