"""The spec language: YAML read with line numbers and limits, validated into frozen spec objects,
and the shipped zoo."""
