import re

import pytest
from django.test import Client
from django.urls import reverse


@pytest.mark.django_db
def test_it_shows_a_labelled_login_form(client: Client):
    html = client.get(reverse("login")).content.decode()
    assert re.search(r"<label[^>]*>Username</label>", html)
    assert re.search(r"<label[^>]*>Password</label>", html)
    assert re.search(r"<button[^>]*>Log in</button>", html)


@pytest.mark.django_db
def test_it_signs_in_and_out(client: Client, owner, team):
    response = client.post(reverse("login"), {"username": "alice", "password": "password"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("team_detail", kwargs={"team_slug": team.slug})
    response = client.post(reverse("logout"), follow=True)
    assert "Log in to qonadmin" in response.content.decode()


@pytest.mark.django_db
def test_it_rejects_a_wrong_password_with_a_clear_message(client: Client, owner):
    html = client.post(reverse("login"), {"username": "alice", "password": "nope"}).content.decode()
    assert "Please enter a correct username and password" in html
    assert 'value="alice"' in html


@pytest.mark.django_db
def test_pages_send_a_strict_content_security_policy(client: Client):
    policy = client.get(reverse("login"))["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe" not in policy
