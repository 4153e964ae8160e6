import argon2
import pytest

from chalicelib.adapters.hashing import Argon2Hasher
from tests.support.fakes import PlainTestHasher


@pytest.fixture(scope="module")
def hasher():
    return Argon2Hasher()


@pytest.fixture(scope="module")
def stored(hasher):
    return hasher.hash("Grenouille7!x é")


def test_a_hash_verifies_against_its_secret(hasher, stored):
    assert stored.startswith("$argon2id$")
    assert hasher.verify(stored, "Grenouille7!x é")


def test_a_wrong_secret_does_not_verify(hasher, stored):
    assert hasher.verify(stored, "Grenouille7!x e") is False
    assert hasher.verify(stored, "") is False


@pytest.mark.parametrize("garbage", ["", "garbage", "$argon2id$v=19$m=19456", "test$v1$ab$cd"])
def test_a_value_that_is_not_an_argon2_hash_does_not_verify(hasher, garbage):
    assert hasher.verify(garbage, "anything") is False


def test_the_same_secret_hashes_differently_each_time(hasher, stored):
    assert hasher.hash("Grenouille7!x é") != stored


def test_the_parameters_read_back_from_the_hash_are_the_required_ones(stored):
    parameters = argon2.extract_parameters(stored)
    assert parameters.type is argon2.Type.ID
    assert (parameters.memory_cost, parameters.time_cost, parameters.parallelism) == (19456, 2, 1)
    assert "$m=19456,t=2,p=1$" in stored


def test_a_hash_with_the_current_parameters_needs_no_rehash(hasher, stored):
    assert hasher.needs_rehash(stored) is False


def test_a_hash_made_with_lower_parameters_needs_a_rehash(hasher):
    weaker = Argon2Hasher(memory_cost=8192, time_cost=1).hash("Grenouille7!x é")
    assert "$m=8192,t=1,p=1$" in weaker
    assert hasher.verify(weaker, "Grenouille7!x é")
    assert hasher.needs_rehash(weaker) is True


def test_an_unreadable_hash_needs_a_rehash(hasher):
    assert hasher.needs_rehash("garbage") is True


def test_the_fake_hasher_behaves_like_the_real_one():
    fake = PlainTestHasher()
    stored = fake.hash("secret")
    assert stored != "secret" and "secret" not in stored
    assert stored != fake.hash("secret")
    assert fake.verify(stored, "secret")
    assert not fake.verify(stored, "Secret")
    assert not fake.verify("garbage", "secret")
    assert not fake.needs_rehash(stored)
    assert PlainTestHasher(version=2).needs_rehash(stored)
