from pagemill.cli import main

main()
