from posekit.cli import main

main()
