"""Looks for Wyoming services over mDNS the way Home Assistant does
(`_wyoming._tcp.local.`), with the `zeroconf` package.

Usage: zeroconf_browse.py PORT [TIMEOUT_S]
Prints one JSON object: the service found on PORT (name, addresses), or
{"found": null} when none answered within the timeout.
"""

import json
import sys
import threading

from zeroconf import ServiceBrowser, ServiceStateChange, Zeroconf

SERVICE_TYPE = "_wyoming._tcp.local."


def main():
    port, timeout = int(sys.argv[1]), float(sys.argv[2]) if len(sys.argv) > 2 else 20.0
    found = {}
    done = threading.Event()
    zc = Zeroconf()

    def on_change(zeroconf, service_type, name, state_change):
        if state_change is not ServiceStateChange.Added:
            return
        info = zeroconf.get_service_info(service_type, name, timeout=3000)
        if info is not None and info.port == port:
            found.update(name=name, port=info.port, addresses=info.parsed_addresses())
            done.set()

    ServiceBrowser(zc, SERVICE_TYPE, handlers=[on_change])
    done.wait(timeout)
    zc.close()
    print(json.dumps({"found": found or None}))


if __name__ == "__main__":
    main()
