"""The pure rules of cases: states, business calendars, SLA clocks and policy choice. No
I/O; the time is always passed in."""
