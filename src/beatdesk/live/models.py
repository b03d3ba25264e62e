"""Live-event streams (#gmp24, #bsp24)."""
