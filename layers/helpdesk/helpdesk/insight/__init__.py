"""Operations insight: the metrics a support lead watches (emitted as CloudWatch embedded metrics by
the sweep and by the inbound and outbound consumers, never with an extra Data API call on a request)
and the leads' reports (one Data API call each)."""
