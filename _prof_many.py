def main():
    import cProfile, pstats, sys, io
    from benchmarks import bench_e2e as e
    from benchmarks._server import BlastServer
    n = int(sys.argv[1]); total = 20000
    with BlastServer() as server:
        server.expect_many(n, total // n); e.many_connections(server.url, n, total // n); server.report(60)
        server.expect_many(n, total // n)
        pr = cProfile.Profile(); pr.enable()
        cpu = e.many_connections(server.url, n, total // n)
        pr.disable(); print(server.report(60), f"cpu/msg {cpu*1e6:.2f}us")
    st = pstats.Stats(pr); st.sort_stats("tottime").print_stats(22)
if __name__ == "__main__": main()
