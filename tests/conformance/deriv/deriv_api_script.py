"""Run python-deriv-api 0.1.6, unmodified, against a Deriv venue: ``python
deriv_api_script.py ENDPOINT TOKEN``.  Prints one JSON object of what it saw on its last
line; any failure is an exception (non-zero exit).  Runs in its own virtualenv (the
library pins websockets 10.3); ``test_python_deriv_api.py`` builds it."""

from __future__ import annotations

import asyncio
import json
import sys


async def first(source, count=1, timeout=15.0):
    """The first ``count`` messages of an rx Observable (it stays subscribed)."""
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    seen = []

    def on_next(message):
        seen.append(message)
        if len(seen) >= count and not done.done():
            done.set_result(list(seen))

    def on_error(error):
        if not done.done():
            done.set_exception(error)

    # Not disposed: the library forgets a stream itself once nobody observes it, and the
    # test forgets them explicitly (forget, forget_all).
    source.subscribe(on_next=on_next, on_error=on_error)
    return await asyncio.wait_for(done, timeout)


async def main(endpoint: str, token: str) -> dict:
    from deriv_api import DerivAPI
    from deriv_api.errors import ResponseError

    api = DerivAPI(endpoint=endpoint, app_id=1089)
    out: dict = {}
    out["ping"] = (await api.ping({"ping": 1}))["ping"]
    out["time"] = (await api.time({"time": 1}))["time"]
    out["site_status"] = (await api.website_status({"website_status": 1}))["website_status"][
        "site_status"
    ]
    symbols = (await api.active_symbols({"active_symbols": "brief"}))["active_symbols"]
    out["symbols"] = [s["symbol"] for s in symbols]
    try:
        await api.authorize({"authorize": "bad-token"})
        out["bad_token"] = None
    except ResponseError as error:
        out["bad_token"] = error.code
    authorized = await api.authorize({"authorize": token})
    out["loginid"] = authorized["authorize"]["loginid"]
    out["echo_token"] = authorized["echo_req"]["authorize"]
    ticks = await first(await api.subscribe({"ticks": "R_50"}), count=2)
    out["ticks"] = [t["tick"]["symbol"] for t in ticks]
    out["tick_subscription"] = ticks[0]["subscription"]["id"]
    history = await first(
        await api.subscribe(
            {"ticks_history": "1HZ100V", "end": "latest", "count": 5, "style": "ticks"}
        ),
        count=2,
    )
    out["history"] = [h["msg_type"] for h in history]
    out["history_prices"] = len(history[0]["history"]["prices"])
    proposal = await api.proposal(
        {
            "proposal": 1,
            "amount": 10,
            "basis": "stake",
            "contract_type": "CALL",
            "currency": "USD",
            "duration": 5,
            "duration_unit": "t",
            "symbol": "R_100",
        }
    )
    out["payout"] = proposal["proposal"]["payout"]
    bought = await api.buy({"buy": proposal["proposal"]["id"], "price": 10})
    out["contract_id"] = bought["buy"]["contract_id"]
    portfolio = await api.portfolio({"portfolio": 1})
    out["portfolio"] = [c["contract_id"] for c in portfolio["portfolio"]["contracts"]]
    # forget_all first: the library's forget_all raises KeyError for a type one of whose
    # streams it already forgot (its subs_per_msg_type keeps the key; a client bug)
    forgot_all = await api.forget_all("ticks")
    out["forget_all"] = len(forgot_all["forget_all"])
    quotes = await first(
        await api.subscribe(
            {
                "proposal": 1,
                "amount": 10,
                "basis": "stake",
                "contract_type": "PUT",
                "currency": "USD",
                "duration": 5,
                "duration_unit": "t",
                "symbol": "R_10",
            }
        ),
        count=2,
    )
    forgot = await api.forget(quotes[0]["subscription"]["id"])
    out["forget"] = forgot["forget"]
    out["proposal_stream"] = [q["msg_type"] for q in quotes]
    try:
        await api.ticks_history({"ticks_history": "R_XX", "end": "latest", "count": 5})
        out["error"] = None
    except ResponseError as error:
        out["error"] = error.code
    out["still_alive"] = (await api.ping({"ping": 1}))["ping"]
    await api.clear()
    return out


if __name__ == "__main__":
    result = asyncio.run(main(sys.argv[1], sys.argv[2]))
    print(json.dumps(result))
