"""A test that fails on purpose, to show what a failing report looks like: the requests the test
made, with Understudy's explanation of the refusal. (`Tests/Integration` runs it and checks that.)"""

import requests


def test_bob_sets_adas_property(understudy_site):
    response = requests.put(f"{understudy_site.base_url}/rest/api/3/user/properties/theme",
                            params={"accountId": "557058:ada"}, json={"dark": True},
                            auth=("bob@example.com", "bob-token"))
    assert response.status_code == 201
