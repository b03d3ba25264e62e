from beatdesk.cli import main

main()
