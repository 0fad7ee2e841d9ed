"""tradewire.bindings.rails: Rails' access token over HTTP for the three bindings.

The Rails client machine (``tradewire.protocol.rails.ClientProtocol``) asks for a token
and takes one, with no I/O; these helpers fetch it and keep it fresh::

    import random
    from tradewire.bindings import rails
    from tradewire.protocol import UuidIds
    from tradewire.protocol.rails import ClientProtocol, CreateOrder

    machine = ClientProtocol(market="BTC-USDT", ids=UuidIds(random.SystemRandom()),
                             subscriptions=("orders", "publicOrderBook"))
    async with rails.connect("wss://ws.trade.rails.xyz", machine,
                             http_url="https://api-auth.sandbox.rails.xyz",
                             api_key=KEY, api_secret=SECRET) as client:
        await client.request(CreateOrder(side="buy", price="2000.90", quantity="1"))
        async for event in client:
            ...

``connect`` works under asyncio and trio (the running one's binding, or ``binding=``);
``connect_sync`` with the sync binding; ``fetch_token`` / ``fetch_token_sync`` fetch one
token.  The details are in ``tradewire.bindings._venue_rails_tokens``.
"""

from ._venue_rails_tokens import KEEPER_POLL, connect, connect_sync, fetch_token, fetch_token_sync

__all__ = ["KEEPER_POLL", "connect", "connect_sync", "fetch_token", "fetch_token_sync"]
