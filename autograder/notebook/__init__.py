"""Reading notebooks: the instructor's master and the students' submissions."""
