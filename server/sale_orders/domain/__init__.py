"""What the API means, written once for both families: limits, field types, schemas, pricing, errors."""
