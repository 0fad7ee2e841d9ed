def main():
    import gc, sys
    from benchmarks import bench_e2e as e
    from benchmarks._server import BlastServer
    total = 20000
    with BlastServer() as server:
        for label, disable in (("gc on", False), ("gc off", True), ("gc on", False), ("gc off", True)):
            for n in (1, 100):
                if disable: gc.disable()
                server.expect_many(n, total // n)
                cpu = e.many_connections(server.url, n, total // n)
                gc.enable()
                print(label, n, f"{cpu*1e6:.2f}us", server.report(60), gc.get_count())
if __name__ == "__main__": main()
