"""User hooks for the charts the dev stack deploys. They live in a module (not in
`__main__.py`) because each step imports them again when it runs, including at destroy."""
