import types

import promptfill


def test_all_names_exist():
    missing = [name for name in promptfill.__all__ if not hasattr(promptfill, name)]
    assert missing == []


def test_no_unlisted_public_names():
    public = {
        name for name, value in vars(promptfill).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert public - set(promptfill.__all__) == set()


def test_all_is_sorted_and_unique():
    names = list(promptfill.__all__)
    assert len(names) == len(set(names))
    assert names == sorted(names)


def test_every_error_derives_from_base():
    from promptfill import errors

    for name in errors.__all__:
        assert issubclass(getattr(errors, name), promptfill.PromptfillError)
