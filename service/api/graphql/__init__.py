"""The GraphQL face (Strawberry): a thin adapter over the same use cases as REST."""
