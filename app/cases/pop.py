"""The screen-pop's open cases, as one SQL expression inside the pop's single statement
(``app.customers.screen_pop``): breached cases first, then by the nearest due time, then
the newest. SLA state comes from the timer rows, kept in step on every change."""

from __future__ import annotations

from app.cases.core.states import OPEN_STATES

POP_CASES = 5
_OPEN = ", ".join(f"'{state}'" for state in OPEN_STATES)


def open_cases_json(customer_id: str) -> str:
    """A SQL expression: the open cases of the customer whose id is the SQL expression
    ``customer_id``, as a JSON array of ``PopCase``."""
    return f"""(SELECT coalesce(json_agg(json_build_object(
        'id', k.id, 'type', k.type, 'state', k.state, 'priority', k.priority,
        'subject', k.subject, 'owner_id', k.owner_id, 'queue', k.queue,
        'created_at', k.created_at, 'breached', k.breached, 'next_due_at', k.next_due_at,
        'next_due_target', k.next_due_target)
        ORDER BY k.breached DESC, k.next_due_at NULLS LAST, k.id DESC), '[]'::json)
    FROM (SELECT o.*, (SELECT q.name FROM queues q WHERE q.id = o.queue_id) AS queue,
                 EXISTS (SELECT 1 FROM case_sla_timers t WHERE t.case_id = o.id
                         AND t.level = 'breach' AND t.due_at <= now()) AS breached,
                 d.due_at AS next_due_at, d.target AS next_due_target
          FROM cases o
          LEFT JOIN LATERAL (
              SELECT t.due_at, t.target FROM case_sla_timers t
              WHERE t.case_id = o.id AND t.level = 'breach' AND t.fired_at IS NULL
                AND t.due_at > now()
              ORDER BY t.due_at LIMIT 1) d ON true
          WHERE o.customer_id = {customer_id} AND o.state IN ({_OPEN})
          ORDER BY o.id DESC LIMIT {POP_CASES}) k)"""  # noqa: S608 (only constants are formatted in)
