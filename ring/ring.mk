# ring: objects, programs and tests of this directory (see docs/design.md)
# (headers only for now: the API contract; sources and tests follow)
