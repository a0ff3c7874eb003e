"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model

from sessions_app.models import SupportSession
from sessions_app.selectors import token_hash

DEFAULT_TOKEN = "customer-token-for-tests"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = "Ada"
    last_name = factory.Sequence(lambda n: f"Agent{n}")
    password = factory.django.Password("password")


class StaffFactory(UserFactory):
    is_staff = True


class SupportSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupportSession

    customer_name = "Casey Customer"
    customer_email = factory.Sequence(lambda n: f"casey{n}@example.com")
    token_hash = factory.LazyFunction(lambda: token_hash(DEFAULT_TOKEN))
