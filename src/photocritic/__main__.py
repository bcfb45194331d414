from photocritic.cli import main

main()
