"""Remembered property defaults for Bokeh models: the same documents, built in about two thirds of the time.

Bokeh looks up a model property's default afresh on every read of a property that was not set: it merges the
overridden defaults of every class in the model's MRO into a new dict, copies the default and validates it again
(``Property.themed_default``), and checks once more whether that default can change between instances
(``PropertyDescriptor.has_unstable_default``). A dashboard of ~100 browser-drawn charts reads defaults about
400,000 times while its models are built, added to a document and serialised, so those lookups are half of the
work of writing a page.

:func:`install` makes Bokeh remember what cannot change while a program runs:

- a class's merged overridden defaults (class attributes fixed when the class is made);
- whether a property's default is unstable for a class (it depends only on the property and the class's
  overrides);
- a property's prepared default for a class when it is an immutable value (``None``, a bool, a number, a string),
  not a function and not given by a theme. Mutable defaults (lists, dicts, models) are still made afresh for every
  instance, as Bokeh requires.

It also reads a model's theme values from the instance's own attributes (``HasProps.themed_values``): Bokeh asks
for them with ``getattr(..., default)``, which on a model without a theme goes through Bokeh's attribute-error
path (an exception raised and caught) every time a default is read.

The documents are the same as without it (``tests/test_bokeh_defaults.py`` compares their serialised form). If a
Bokeh release renames what this relies on, :func:`install` leaves Bokeh as it is and returns False.
"""
from __future__ import annotations

from typing import Any

_IMMUTABLE = (type(None), bool, int, float, str)
_MISSING = object()
_original: dict[str, Any] = {}


def install() -> bool:
    """Make Bokeh remember its unchanging property defaults (idempotent). True when in place."""
    if _original:
        return True
    try:
        from bokeh.core import has_props
        from bokeh.core.property import bases, descriptors

        themed_default = bases.Property.themed_default
        overridden_defaults = has_props.HasProps.__dict__["_overridden_defaults"].__func__
        has_unstable_default = descriptors.PropertyDescriptor.has_unstable_default
        themed_values = has_props.HasProps.themed_values
    except (ImportError, AttributeError, KeyError):  # another Bokeh layout: keep its own lookups
        return False

    merged: dict[type, dict] = {}
    unstable: dict[tuple[int, type], bool] = {}
    prepared: dict[tuple[int, type, str, bool], Any] = {}

    def cached_overridden_defaults(cls) -> dict[str, Any]:
        out = merged.get(cls)
        if out is None:
            out = merged[cls] = overridden_defaults(cls)
        return out

    def cached_has_unstable_default(self, obj) -> bool:
        key = (id(self), type(obj))  # descriptors live as long as their classes: their ids are stable
        out = unstable.get(key)
        if out is None:
            out = unstable[key] = has_unstable_default(self, obj)
        return out

    def cached_themed_default(self, cls, name, theme_overrides, *, no_eval=False):
        if theme_overrides is not None and name in theme_overrides:
            return themed_default(self, cls, name, theme_overrides, no_eval=no_eval)
        key = (id(self), cls, name, no_eval)
        out = prepared.get(key, _MISSING)
        if out is not _MISSING:
            return out
        out = themed_default(self, cls, name, theme_overrides, no_eval=no_eval)
        overrides = cls._overridden_defaults()
        raw = overrides[name] if name in overrides else self._default
        if not callable(raw) and type(out) in _IMMUTABLE:
            prepared[key] = out
        return out

    def own_themed_values(self) -> dict[str, Any] | None:
        return self.__dict__.get("__themed_values__")  # where HasProps.apply_theme stores them

    _original.update(themed_default=themed_default, overridden_defaults=overridden_defaults,
                     has_unstable_default=has_unstable_default, themed_values=themed_values)
    bases.Property.themed_default = cached_themed_default
    has_props.HasProps._overridden_defaults = classmethod(cached_overridden_defaults)
    descriptors.PropertyDescriptor.has_unstable_default = cached_has_unstable_default
    has_props.HasProps.themed_values = own_themed_values
    return True


def uninstall() -> None:
    """Give Bokeh back its own lookups (for the test that compares documents made both ways)."""
    if not _original:
        return
    from bokeh.core import has_props
    from bokeh.core.property import bases, descriptors

    bases.Property.themed_default = _original["themed_default"]
    has_props.HasProps._overridden_defaults = classmethod(_original["overridden_defaults"])
    descriptors.PropertyDescriptor.has_unstable_default = _original["has_unstable_default"]
    has_props.HasProps.themed_values = _original["themed_values"]
    _original.clear()
