async def test_viewer(world, gql):
    data = await gql(world.keys["ops"], "{ viewer { role seesPersonalData } }")
    assert data == {"viewer": {"role": "ops", "seesPersonalData": True}}
